import { useToast } from '@/components/toasts';
import { useLiveNotifications } from '@/lib/live';

const TONE = { order_confirmed: 'success', registration_confirmed: 'success', event_cancelled: 'danger', ticket_cancelled: 'info' } as const;

/** Shows a toast the moment a notification is pushed over the live connection. Renders nothing itself. */
export function LiveToasts() {
  const toast = useToast();
  useLiveNotifications((n) => {
    toast({
      title: n.title,
      body: n.body,
      tone: n.type in TONE ? TONE[n.type as keyof typeof TONE] : 'info',
      href: n.eventId ? `/events/${n.eventId}` : '/notifications',
    });
  });
  return null;
}
