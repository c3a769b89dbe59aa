/**
 * Sets `obj[key] = value` as an own data property, even for the key `__proto__` (a legal MySQL
 * column name), which plain assignment would turn into a prototype change.
 */
export function setOwn<T>(obj: Record<string, T>, key: string, value: T): void {
  if (key === '__proto__')
    Object.defineProperty(obj, key, {
      value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  else obj[key] = value;
}
