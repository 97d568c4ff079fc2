import type { ProviderEmulator } from '../emulator';

export const PDL_EMULATORS: ProviderEmulator[] = [];
