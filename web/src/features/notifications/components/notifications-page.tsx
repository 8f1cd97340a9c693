import { Link } from 'react-router';
import { ErrorAlert } from '@/components/error-alert';
import { EmptyState, PageHeader } from '@/components/page-header';
import { ListStates } from '@/components/query-states';
import { ShowMore } from '@/components/show-more';
import { formatDateTime, formatRelative } from '@/lib/format';
import { unreadText, useMarkAllRead, useMarkRead, useNotificationList } from '@/features/notifications/api/notifications-api';

export function NotificationsPage() {
  const list = useNotificationList();
  const markRead = useMarkRead();
  const markAll = useMarkAllRead();
  const items = list.data?.pages.flatMap((p) => p.items) ?? [];
  const unread = list.data?.pages[0]?.unreadCount ?? 0;

  return (
    <>
      <PageHeader
        title="Notifications"
        subtitle={unread > 0 ? `${unreadText(unread)} unread` : 'You’re all caught up.'}
        actions={
          <button type="button" className="btn btn-outline-primary" onClick={() => markAll.mutate()} disabled={unread === 0 || markAll.isPending}>
            {markAll.isPending && <span className="spinner-border spinner-border-sm me-2" aria-hidden="true" />}
            Mark all as read
          </button>
        }
      />
      {markAll.isError && <ErrorAlert error={markAll.error} />}
      {markRead.isError && <ErrorAlert error={markRead.error} />}
      <ListStates
        list={list}
        count={items.length}
        loading={{ lines: 6, label: 'Loading notifications…' }}
        empty={<EmptyState title="No notifications yet">Purchases, event changes and announcements will show up here the moment they happen.</EmptyState>}
      >
        <ul className="list-group shadow-sm rounded-4 notification-list">
          {items.map((n) => (
            <li key={n.id} className={`list-group-item py-3 d-flex gap-3 ${n.readAt ? '' : 'notification-unread'}`} data-testid="notification">
              <span className={`notification-dot mt-2 ${n.readAt ? 'invisible' : ''}`} aria-hidden="true" />
              <div className="flex-grow-1 min-w-0">
                <div className="d-flex flex-wrap justify-content-between gap-2">
                  <h2 className="h6 fw-semibold mb-1">
                    {n.readAt ? '' : <span className="visually-hidden">Unread: </span>}
                    {n.title}
                  </h2>
                  <time className="small text-secondary" dateTime={n.createdAt} title={formatDateTime(n.createdAt)}>
                    {formatRelative(n.createdAt)}
                  </time>
                </div>
                <p className="mb-1">{n.body}</p>
                <div className="d-flex gap-3 small">
                  {n.eventId && <Link to={`/events/${n.eventId}`}>View event</Link>}
                  {!n.readAt && (
                    <button type="button" className="btn btn-link btn-sm p-0 align-baseline" onClick={() => markRead.mutate(n.id)} disabled={markRead.isPending}>
                      Mark as read<span className="visually-hidden">: {n.title}</span>
                    </button>
                  )}
                </div>
              </div>
            </li>
          ))}
        </ul>
        <ShowMore list={list} label="Show older notifications" loading="Loading older notifications…" />
      </ListStates>
    </>
  );
}
