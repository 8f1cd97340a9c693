import { Link } from 'react-router';
import { useDocumentTitle } from '@/components/page-header';

export function NotFoundPage() {
  useDocumentTitle('Page not found');
  return (
    <div className="bg-white rounded-4 shadow-sm p-5 text-center">
      <h1 className="h3 fw-bold">We can’t find that page</h1>
      <p className="text-secondary">The link may be old, or the page may have moved.</p>
      <Link to="/" className="btn btn-primary">
        Discover events
      </Link>
    </div>
  );
}
