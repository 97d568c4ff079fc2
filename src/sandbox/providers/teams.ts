import type { ProviderEmulator } from '../emulator';

export const TEAMS_EMULATORS: ProviderEmulator[] = [];
