import { NavLink } from 'react-router';
import { BellIcon } from '@/components/icons';
import { unreadText, useUnreadCount } from '@/features/notifications/api/notifications-api';

/** The bell in the navbar: a link to the list, its name saying how many are unread. */
export function NotificationBell() {
  const unread = useUnreadCount();
  const count = unread.data ?? 0;
  const label = count === 0 ? 'Notifications, none unread' : `Notifications, ${unreadText(count)} unread`;
  return (
    <NavLink to="/notifications" className="nav-link bell-link position-relative px-2" aria-label={label} title={label}>
      <BellIcon size={20} />
      {count > 0 && (
        <span className="position-absolute top-0 start-100 translate-middle badge rounded-pill bg-danger bell-count" data-testid="unread-count" aria-hidden="true">
          {unreadText(count)}
        </span>
      )}
    </NavLink>
  );
}
