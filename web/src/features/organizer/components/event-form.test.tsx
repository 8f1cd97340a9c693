import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import type { CreateEventBody, Event as DemsEvent } from '@dems/contracts';
import { useNavigate } from 'react-router';
import { describe, expect, it, vi } from 'vitest';
import { ApiError } from '@/lib/api-client';
import { testEvent } from '@/test/fixtures';
import { renderApp } from '@/test/render';
import { EventForm, type EventSave } from './event-form';
import { emptyDraft, validateCreate } from './event-form-model';

/** The form on its page, as the create page has it: Back and a save both go to My events. */
function FormPage({ save }: { save: EventSave<CreateEventBody> }) {
  const navigate = useNavigate();
  return (
    <EventForm
      initial={emptyDraft('Europe/Lisbon')}
      validate={validateCreate}
      save={save}
      onSaved={() => navigate('/organizer')}
      submitLabel="Publish event"
      onCancel={() => navigate('/organizer')}
    />
  );
}

function renderForm(serverError: unknown = null, { saves = false } = {}) {
  // The mutation stand-in records what the form would send; the server's answer is `serverError`, or a success when `saves`.
  const onSubmit = vi.fn<(body: CreateEventBody, callbacks: { onSuccess: (event: DemsEvent) => void }) => void>((_body, { onSuccess }) => {
    if (saves) onSuccess(testEvent());
  });
  const save = { mutate: onSubmit, isPending: false, error: serverError };
  const { router } = renderApp(null, {
    path: '/organizer/events/new',
    routes: [
      { path: '/organizer/events/new', element: <FormPage save={save} /> },
      { path: '/organizer', element: <h1>My events</h1> },
      { path: '/elsewhere', element: <h1>Elsewhere</h1> },
    ],
  });
  return { onSubmit, router, user: userEvent.setup({ delay: null }) };
}

/** The message a screen reader reads with the control: its aria-describedby text. */
const describedText = (el: HTMLElement) =>
  (el.getAttribute('aria-describedby') ?? '')
    .split(' ')
    .map((id) => document.getElementById(id)?.textContent ?? '')
    .join(' ');

describe('EventForm', () => {
  it('shows the validation message beside each wrong field and sends nothing', async () => {
    const { onSubmit, user } = renderForm();
    await user.clear(screen.getByLabelText('Name (type 1)'));
    await user.click(screen.getByRole('button', { name: 'Publish event' }));

    expect(onSubmit).not.toHaveBeenCalled();
    const title = screen.getByLabelText('Title');
    expect(title).toHaveAttribute('aria-invalid', 'true');
    expect(describedText(title)).toBe('Give your event a title.');
    expect(describedText(screen.getByLabelText('Venue'))).toBe('Say where it takes place.');
    expect(describedText(screen.getByLabelText('Starts'))).toBe('Choose when the event starts.');
    expect(describedText(screen.getByLabelText('Name (type 1)'))).toBe('Name this ticket type.');
    expect(describedText(screen.getByLabelText('Price (type 1)'))).toBe('Enter a price such as 0, 15 or 12.50.');
    expect(describedText(screen.getByLabelText('Capacity (type 1)'))).toBe('Enter how many tickets, at least 1.');
    expect(screen.getByText('Please fix the highlighted fields.')).toBeInTheDocument();
  });

  it('says when the end is before the start (the contracts refinement)', async () => {
    const { user } = renderForm();
    await user.type(screen.getByLabelText('Starts'), '2099-07-14T20:00');
    await user.type(screen.getByLabelText('Ends'), '2099-07-14T19:00');
    await user.click(screen.getByRole('button', { name: 'Publish event' }));
    expect(describedText(screen.getByLabelText('Ends'))).toBe('The event must end after it starts.');
  });

  it('adds and removes ticket types inline, then submits the body POST /events expects', { timeout: 20_000 }, async () => {
    const { onSubmit, user } = renderForm();
    await user.type(screen.getByLabelText('Title'), 'Jazz Night');
    await user.type(screen.getByLabelText('Venue'), 'Blue Room');
    await user.type(screen.getByLabelText('Starts'), '2099-07-14T20:30');
    await user.type(screen.getByLabelText('Ends'), '2099-07-14T23:00');
    await user.clear(screen.getByLabelText('Name (type 1)'));
    await user.type(screen.getByLabelText('Name (type 1)'), 'General');
    await user.type(screen.getByLabelText('Price (type 1)'), '12.50');
    await user.clear(screen.getByLabelText('Currency (type 1)'));
    await user.type(screen.getByLabelText('Currency (type 1)'), 'eur');
    await user.type(screen.getByLabelText('Capacity (type 1)'), '100');

    await user.click(screen.getByRole('button', { name: '+ Add ticket type' }));
    await user.click(screen.getByRole('button', { name: '+ Add ticket type' }));
    expect(screen.getAllByTestId('ticket-type-row')).toHaveLength(3);
    await user.type(screen.getByLabelText('Name (type 2)'), 'VIP');
    await user.type(screen.getByLabelText('Price (type 2)'), '80');
    await user.type(screen.getByLabelText('Capacity (type 2)'), '1');
    await user.click(within(screen.getAllByTestId('ticket-type-row')[2]!).getByRole('button', { name: /Remove ticket type 3/ }));
    expect(screen.getAllByTestId('ticket-type-row')).toHaveLength(2);

    await user.click(screen.getByRole('button', { name: 'Publish event' }));
    expect(onSubmit).toHaveBeenCalledTimes(1);
    expect(onSubmit.mock.calls[0]![0]).toEqual({
      title: 'Jazz Night',
      description: '',
      venue: 'Blue Room',
      timezone: 'Europe/Lisbon',
      // 20:30 in Lisbon in July is 19:30 UTC.
      startsAt: '2099-07-14T19:30:00.000Z',
      endsAt: '2099-07-14T22:00:00.000Z',
      registrationLimit: null,
      ticketTypes: [
        { name: 'General', priceCents: 1250, currency: 'EUR', capacity: 100 },
        { name: 'VIP', priceCents: 8000, currency: 'USD', capacity: 1 },
      ],
    });
  });

  it("puts the server's field error beside the field", () => {
    renderForm(new ApiError('VALIDATION_FAILED', 'body.endsAt: the end time is already past; choose one in the future.', 'r', 400));
    expect(describedText(screen.getByLabelText('Ends'))).toBe('The end time is already past; choose one in the future.');
  });

  it('offers every IANA time zone', () => {
    renderForm();
    const select = screen.getByLabelText('Time zone');
    expect(within(select).getByRole('option', { name: 'America/New York' })).toBeInTheDocument();
    expect(select).toHaveValue('Europe/Lisbon');
  });

  it('an unchanged form leaves at once with Back', async () => {
    const { user } = renderForm();
    await user.click(screen.getByRole('button', { name: 'Back' }));
    expect(await screen.findByRole('heading', { name: 'My events' })).toBeInTheDocument();
  });

  it('asks before Back or a link throws away unsaved changes; Keep editing keeps them, Leave without saving leaves', async () => {
    const { router, user } = renderForm();
    await user.type(screen.getByLabelText('Title'), 'Jazz Night');

    await user.click(screen.getByRole('button', { name: 'Back' }));
    const dialog = await screen.findByRole('dialog', { name: 'Leave without saving?' });
    expect(within(dialog).getByRole('button', { name: 'Keep editing' })).toHaveFocus();
    await user.click(within(dialog).getByRole('button', { name: 'Keep editing' }));
    expect(screen.queryByRole('dialog')).toBeNull();
    expect(screen.getByLabelText('Title')).toHaveValue('Jazz Night');

    // A navigation from elsewhere in the app (the navbar, the browser's back button) asks the same.
    void router.navigate('/elsewhere');
    await user.click(within(await screen.findByRole('dialog')).getByRole('button', { name: 'Leave without saving' }));
    expect(await screen.findByRole('heading', { name: 'Elsewhere' })).toBeInTheDocument();
  });

  it('a reload or closing the tab asks the browser to confirm only while there are unsaved changes', async () => {
    const { user } = renderForm();
    const unload = () => {
      const e = new Event('beforeunload', { cancelable: true });
      window.dispatchEvent(e);
      return e.defaultPrevented;
    };
    expect(unload()).toBe(false);
    await user.type(screen.getByLabelText('Venue'), 'Blue Room');
    expect(unload()).toBe(true);
    await user.clear(screen.getByLabelText('Venue'));
    expect(unload()).toBe(false);
  });

  it('saving leaves without asking', { timeout: 20_000 }, async () => {
    const { user } = renderForm(null, { saves: true });
    await user.type(screen.getByLabelText('Title'), 'Jazz Night');
    await user.type(screen.getByLabelText('Venue'), 'Blue Room');
    await user.type(screen.getByLabelText('Starts'), '2099-07-14T20:30');
    await user.type(screen.getByLabelText('Ends'), '2099-07-14T23:00');
    await user.type(screen.getByLabelText('Price (type 1)'), '10');
    await user.type(screen.getByLabelText('Capacity (type 1)'), '100');
    await user.click(screen.getByRole('button', { name: 'Publish event' }));
    expect(await screen.findByRole('heading', { name: 'My events' })).toBeInTheDocument();
    expect(screen.queryByRole('dialog')).toBeNull();
  });

  describe('changing the time zone with times filled in asks which is meant', () => {
    const fillTimes = async (user: ReturnType<typeof userEvent.setup>) => {
      await user.type(screen.getByLabelText('Starts'), '2099-07-14T19:00');
      await user.type(screen.getByLabelText('Ends'), '2099-07-14T22:00');
      await user.selectOptions(screen.getByLabelText('Time zone'), 'America/New_York');
    };
    const fillTheRest = async (user: ReturnType<typeof userEvent.setup>) => {
      await user.type(screen.getByLabelText('Title'), 'Jazz Night');
      await user.type(screen.getByLabelText('Venue'), 'Blue Room');
      await user.type(screen.getByLabelText('Price (type 1)'), '10');
      await user.type(screen.getByLabelText('Capacity (type 1)'), '100');
    };

    it('"keep the same moment" shows the times as they are in the new zone, and sends the same instants', { timeout: 20_000 }, async () => {
      const { onSubmit, user } = renderForm();
      await fillTimes(user);
      const question = screen.getByRole('group', { name: /The time zone changed from Europe\/Lisbon to America\/New York/ });
      // 19:00 in Lisbon in July is 18:00 UTC; 19:00 in New York is 23:00 UTC.
      expect(within(question).getByRole('button', { name: 'Keep 19:00 in America/New York (the event moves 5 hours later)' })).toBeInTheDocument();
      await user.click(within(question).getByRole('button', { name: 'Keep the same moment (shown as 14:00 in America/New York)' }));
      expect(screen.queryByTestId('zone-change-question')).toBeNull();
      expect(screen.getByLabelText('Starts')).toHaveValue('2099-07-14T14:00');
      expect(screen.getByLabelText('Ends')).toHaveValue('2099-07-14T17:00');
      expect(screen.getByLabelText('Time zone')).toHaveFocus();
      await fillTheRest(user);
      await user.click(screen.getByRole('button', { name: 'Publish event' }));
      expect(onSubmit.mock.calls[0]![0]).toMatchObject({ timezone: 'America/New_York', startsAt: '2099-07-14T18:00:00.000Z', endsAt: '2099-07-14T21:00:00.000Z' });
    });

    it('"keep 19:00" keeps the wall clock, so the event moves; saving before answering asks for an answer first', { timeout: 20_000 }, async () => {
      const { onSubmit, user } = renderForm();
      await fillTimes(user);
      await fillTheRest(user);
      await user.click(screen.getByRole('button', { name: 'Publish event' }));
      expect(onSubmit).not.toHaveBeenCalled();
      expect(screen.getByText('Choose one of these before saving.')).toBeInTheDocument();
      await waitFor(() => expect(screen.getByRole('button', { name: /^Keep 19:00 in America\/New York/ })).toHaveFocus());
      await user.click(screen.getByRole('button', { name: /^Keep 19:00 in America\/New York/ }));
      expect(screen.getByLabelText('Starts')).toHaveValue('2099-07-14T19:00');
      await user.click(screen.getByRole('button', { name: 'Publish event' }));
      expect(onSubmit.mock.calls[0]![0]).toMatchObject({ timezone: 'America/New_York', startsAt: '2099-07-14T23:00:00.000Z', endsAt: '2099-07-15T02:00:00.000Z' });
    });

    it('says when the same moment falls on another day, and asks nothing while no time is filled in or when the offsets agree', async () => {
      const { user } = renderForm();
      await user.selectOptions(screen.getByLabelText('Time zone'), 'America/Los_Angeles');
      expect(screen.queryByTestId('zone-change-question')).toBeNull();
      await user.type(screen.getByLabelText('Starts'), '2099-07-14T19:00');
      await user.selectOptions(screen.getByLabelText('Time zone'), 'Europe/Berlin');
      expect(screen.getByRole('button', { name: 'Keep the same moment (shown as 04:00 the next day in Europe/Berlin)' })).toBeInTheDocument();
      // Changing again before answering still asks about the zone the time was typed in; back to it, nothing to ask.
      await user.selectOptions(screen.getByLabelText('Time zone'), 'Europe/Paris');
      expect(screen.getByRole('group', { name: /from America\/Los Angeles to Europe\/Paris/ })).toBeInTheDocument();
      await user.selectOptions(screen.getByLabelText('Time zone'), 'America/Los_Angeles');
      expect(screen.queryByTestId('zone-change-question')).toBeNull();
      // Vancouver keeps Los Angeles' offset: both readings are one instant.
      await user.selectOptions(screen.getByLabelText('Time zone'), 'America/Vancouver');
      expect(screen.queryByTestId('zone-change-question')).toBeNull();
    });
  });
});
