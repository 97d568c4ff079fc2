import type { ProviderEmulator } from '../emulator';

export const PIPEDRIVE_EMULATORS: ProviderEmulator[] = [];
