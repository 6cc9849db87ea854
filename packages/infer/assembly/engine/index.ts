// The fused model step (one call per batch of tokens) and its pieces.
export { forward, forward_thread } from './step';
