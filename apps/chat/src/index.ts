// The llm-chat app's modules, for tests and embedding (the app is not published).
export { main, program } from './cli.js';
export { ChatSession, type ChatOptions } from './chat.js';
