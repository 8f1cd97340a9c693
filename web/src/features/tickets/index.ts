export { BuyTickets } from './components/buy-tickets';
export { MyTicketsPage } from './components/my-tickets-page';
