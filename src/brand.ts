/**
 * Makes `instanceof cls` work across copies of flytekit-ts loaded twice in one process (a user
 * module importing the SDK's sources next to the compiled entrypoint, or a bundle that inlines
 * the SDK): instances carry a global brand, and `instanceof` checks the brand.
 */
export function brandClass(cls: abstract new (...args: never[]) => unknown, name: string): void {
  const brand = Symbol.for(`flytekit-ts.class.${name}`);
  Object.defineProperty(cls.prototype, brand, { value: true });
  Object.defineProperty(cls, Symbol.hasInstance, {
    value: (x: unknown) =>
      x !== null &&
      (typeof x === "object" || typeof x === "function") &&
      (x as Record<symbol, unknown>)[brand] === true,
  });
}
