import type { ProviderEmulator } from '../emulator';

export const OKTA_EMULATORS: ProviderEmulator[] = [];
