import { generateMessageId, renderQrPng } from '../src';

describe(generateMessageId.name, () => {
  it('mints unique ids in WhatsApp Web\'s format', () => {
    const ids = new Set(Array.from({ length: 1000 }, () => generateMessageId('491701234567:3@s.whatsapp.net')));
    expect(ids.size).toBe(1000);
    for (const id of ids) expect(id).toMatch(/^3EB0[0-9A-F]{18}$/);
    expect(generateMessageId()).toMatch(/^3EB0[0-9A-F]{18}$/);
  });
});

describe(renderQrPng.name, () => {
  it('renders the raw QR string as a PNG image', async () => {
    const png = await renderQrPng('2@abc,def,ghi,jkl', 200);
    expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    expect(png.readUInt32BE(16)).toBe(200);
  });
});
