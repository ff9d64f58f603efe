import { createApp } from 'vue'
import 'element-plus/es/components/message/style/css'
import 'element-plus/es/components/notification/style/css'
import './style.css'
import App from './App.vue'
import { router } from './router.js'
import { i18n } from './i18n.js'

document.documentElement.lang = i18n.global.locale.value
createApp(App).use(router).use(i18n).mount('#app')
