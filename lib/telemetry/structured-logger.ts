/** The logging the core needs; Powertools' Logger satisfies it, tests pass a recorder. */
export interface StructuredLogger {
  info(message: string, ...extra: Record<string, unknown>[]): void;
  warn(message: string, ...extra: Record<string, unknown>[]): void;
  error(message: string, ...extra: Record<string, unknown>[]): void;
}
