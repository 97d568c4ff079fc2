import type { ProviderEmulator } from '../emulator';

export const MSGRAPH_EMULATORS: ProviderEmulator[] = [];
