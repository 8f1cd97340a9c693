import { useEffect, useState } from 'react';
import QRCode from 'qrcode';

/** The ticket's code as a QR image (SVG, so it is sharp when printed and needs no canvas). */
export function TicketQr({ code, label, size = 132, dimmed = false }: { code: string; label: string; size?: number; dimmed?: boolean }) {
  const [src, setSrc] = useState<string | null>(null);
  useEffect(() => {
    let alive = true;
    QRCode.toString(code, { type: 'svg', margin: 1, errorCorrectionLevel: 'M' }).then(
      (svg) => alive && setSrc(`data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg)}`),
      () => alive && setSrc(null),
    );
    return () => {
      alive = false;
    };
  }, [code]);
  if (!src) return <div className="qr-placeholder placeholder-glow" style={{ width: size, height: size }} role="img" aria-label={`${label} (loading)`} />;
  return <img src={src} width={size} height={size} alt={label} className={`ticket-qr ${dimmed ? 'opacity-25' : ''}`} data-testid="ticket-qr" />;
}
