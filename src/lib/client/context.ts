import { createContext } from 'svelte';
import type { ChatEngine } from './engine.svelte';

/** The unlocked account's engine, given by the app layout to every page below it. */
export const [getEngine, setEngine] = createContext<ChatEngine>();
