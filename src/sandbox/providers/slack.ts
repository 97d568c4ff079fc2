import type { ProviderEmulator } from '../emulator';

export const SLACK_EMULATORS: ProviderEmulator[] = [];
