/**
 * Routes by request path. A pattern is a path whose segments may be `:name` (captures one
 * segment) or a final `*` (matches the rest, including nothing). Exact patterns win over
 * patterns with parameters, which win over wildcards; among equals, the first added wins.
 */
export interface RouteMatch<T> {
  readonly value: T;
  readonly params: Readonly<Record<string, string>>;
}

interface CompiledRoute<T> {
  readonly pattern: string;
  readonly segments: readonly string[];
  readonly wildcard: boolean;
  readonly rank: number;
  readonly value: T;
}

export class Router<T> {
  private readonly exact = new Map<string, T>();
  private readonly patterns: CompiledRoute<T>[] = [];

  add(pattern: string, value: T): void {
    if (!pattern.startsWith('/')) throw new TypeError(`route ${JSON.stringify(pattern)} must start with /`);
    const segments = pattern.split('/').slice(1);
    const wildcard = segments[segments.length - 1] === '*';
    if (wildcard) segments.pop();
    if (segments.includes('*')) {
      throw new TypeError(`route ${JSON.stringify(pattern)}: * may only end a pattern`);
    }
    if (!wildcard && !segments.some((segment) => segment.startsWith(':'))) {
      if (this.exact.has(pattern)) throw new TypeError(`route ${pattern} is defined twice`);
      this.exact.set(pattern, value);
      return;
    }
    this.patterns.push({ pattern, segments, wildcard, rank: wildcard ? 2 : 1, value });
    // Stable sort keeps the order of addition among routes of the same rank.
    this.patterns.sort((a, b) => a.rank - b.rank);
  }

  match(path: string): RouteMatch<T> | null {
    const exact = this.exact.get(path);
    if (exact !== undefined) return { value: exact, params: NO_PARAMS };
    let parts: string[] | null = null;
    for (const route of this.patterns) {
      // `/*` takes every path: no need to split it.
      if (route.wildcard && route.segments.length === 0) return { value: route.value, params: NO_PARAMS };
      parts ??= path.split('/').slice(1);
      const params = matchSegments(route, parts);
      if (params !== null) return { value: route.value, params };
    }
    return null;
  }
}

const NO_PARAMS: Readonly<Record<string, string>> = Object.freeze({});

function matchSegments<T>(route: CompiledRoute<T>, parts: readonly string[]): Record<string, string> | null {
  const { segments, wildcard } = route;
  if (wildcard ? parts.length < segments.length : parts.length !== segments.length) return null;
  let params: Record<string, string> | null = null;
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i];
    if (segment.startsWith(':')) {
      if (parts[i] === '') return null;
      params ??= Object.create(null) as Record<string, string>;
      params[segment.slice(1)] = safeDecode(parts[i]);
    } else if (segment !== parts[i]) {
      return null;
    }
  }
  return params ?? NO_PARAMS;
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
