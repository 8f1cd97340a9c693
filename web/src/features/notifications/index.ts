export { NotificationBell } from './components/notification-bell';
export { LiveToasts } from './components/live-toasts';
export { NotificationsPage } from './components/notifications-page';
