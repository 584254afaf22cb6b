// Module resolve hook for scripts/docs.mjs: TypeDoc's imports of `typescript` get TypeScript 6
// (the `typescript6` devDependency), which still has the compiler API TypeDoc needs. Every
// other import resolves as usual. Synchronous, so that it serves both `module.registerHooks`
// and `module.register`.
export function resolve(specifier, context, nextResolve) {
  if (specifier === 'typescript' && context.parentURL?.includes('/node_modules/typedoc/')) {
    return nextResolve('typescript6', context);
  }
  return nextResolve(specifier, context);
}
