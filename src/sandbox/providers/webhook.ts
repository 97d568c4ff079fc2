import type { ProviderEmulator } from '../emulator';

export const WEBHOOK_EMULATORS: ProviderEmulator[] = [];
