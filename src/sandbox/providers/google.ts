import type { ProviderEmulator } from '../emulator';

export const GOOGLE_EMULATORS: ProviderEmulator[] = [];
