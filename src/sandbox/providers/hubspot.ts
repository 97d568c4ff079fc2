import type { ProviderEmulator } from '../emulator';

export const HUBSPOT_EMULATORS: ProviderEmulator[] = [];
