import { toBuffer } from 'qrcode';

/** Renders the raw QR string from a `qr` status as a PNG for the API and dashboards. */
export function renderQrPng(qr: string, width = 400): Promise<Buffer> {
  return toBuffer(qr, { type: 'png', width, errorCorrectionLevel: 'L', margin: 2 });
}
