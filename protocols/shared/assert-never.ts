// Exhaustive switches end here: adding a member to a union makes every switch that forgot it a compile error.
export function assertNever(value: never, what = 'value'): never {
  throw new Error(`unhandled ${what}: ${JSON.stringify(value)}`);
}
