import { defineConfig } from 'vite'
import vue from '@vitejs/plugin-vue'
import Components from 'unplugin-vue-components/vite'
import { ElementPlusResolver } from 'unplugin-vue-components/resolvers'

// The console is served by the sansuo binary at /console/ from the checked-in
// ../dist (crates/console embeds it). The build must be deterministic (CI
// rebuilds it and fails on drift) and CSP-clean (no inline script).
export default defineConfig({
  base: '/console/',
  plugins: [
    vue(),
    // Element Plus components (and their CSS) imported on demand. `dts:
    // false`: no generated file to drift.
    Components({
      dts: false,
      resolvers: [ElementPlusResolver({ importStyle: 'css' })],
    }),
  ],
  define: {
    __VUE_OPTIONS_API__: 'false',
    __VUE_PROD_DEVTOOLS__: 'false',
    __VUE_PROD_HYDRATION_MISMATCH_DETAILS__: 'false',
    __INTLIFY_PROD_DEVTOOLS__: 'false',
  },
  build: {
    outDir: '../dist',
    emptyOutDir: true,
    // No inline data: URLs for assets the CSP would need to allow as scripts;
    // images/fonts may stay inline (img-src allows data:).
    assetsInlineLimit: 4096,
    sourcemap: false,
    reportCompressedSize: false,
    modulePreload: { polyfill: false },
    // The statistics page's chunk carries ECharts (~540 KB, loaded only
    // there); the entry chunk stays under 500 KB.
    chunkSizeWarningLimit: 560,
  },
  server: {
    proxy: { '/api': 'http://127.0.0.1:8080' },
  },
})
