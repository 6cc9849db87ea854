// @llm/train is not implemented yet: it exports nothing on purpose (no fake APIs).
export {};
