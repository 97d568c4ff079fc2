import type { ProviderEmulator } from '../emulator';

export const BAMBOOHR_EMULATORS: ProviderEmulator[] = [];
