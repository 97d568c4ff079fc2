import type { ProviderEmulator } from '../emulator';

export const SALESFORCE_EMULATORS: ProviderEmulator[] = [];
