import { newQuickJSWASMModule, type QuickJSWASMModule } from 'quickjs-emscripten';

/*
 * The QuickJS WebAssembly module shared by all `code.js` evaluations of this process, loaded on first
 * use. A fresh runtime and context are made per evaluation; the module itself is replaced only when an
 * evaluation broke it (`discardQuickJsModule`).
 *
 * Not `getQuickJS()`: that singleton cannot be replaced, and a module whose execution was torn down by
 * a host exception (the V8 stack running out inside deeply nested native code, a WebAssembly trap) is
 * in an unknown state.
 */
let loading: Promise<QuickJSWASMModule> | undefined;
let loaded: QuickJSWASMModule | undefined;

/** The shared module, loading it on first use. A failed load is not cached. */
export function loadQuickJsModule(): Promise<QuickJSWASMModule> {
  loading ??= newQuickJSWASMModule().then(
    (module) => {
      loaded = module;
      return module;
    },
    (error: unknown) => {
      loading = undefined;
      throw new Error('could not load the QuickJS WebAssembly module', { cause: error });
    },
  );
  return loading;
}

/** Drops `module` so that the next evaluation loads a fresh one; its memory goes with its last reference. */
export function discardQuickJsModule(module: QuickJSWASMModule): void {
  if (loaded !== module) return;
  loaded = undefined;
  loading = undefined;
}
