import type { ProviderEmulator } from '../emulator';

export const HIBOB_EMULATORS: ProviderEmulator[] = [];
