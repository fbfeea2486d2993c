/**
 * Small files for the demo, generated in code so the repository holds no binaries:
 * one-page PDFs (Helvetica, WinAnsi) and plain UTF-8 text files.
 */

/** A file to attach to a demo record. */
export interface DemoFile {
  readonly title: string;
  readonly fileName: string;
  readonly mimeType: string;
  readonly content: Buffer;
}

/** PDF string literals escape backslashes and parentheses. */
function pdfString(text: string): string {
  return `(${text.replace(/[\\()]/g, (c) => `\\${c}`)})`;
}

/**
 * A valid one-page A4 PDF showing a title and some lines. The text is written in Latin-1
 * (WinAnsiEncoding), which covers the accented letters of Italian.
 */
function onePagePdf(title: string, lines: readonly string[]): Buffer {
  const text = [
    'BT',
    '/F1 16 Tf 56 780 Td 22 TL',
    `${pdfString(title)} Tj T*`,
    '/F1 11 Tf 16 TL',
    ...lines.map((line) => `${pdfString(line)} Tj T*`),
    'ET',
  ].join('\n');
  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>',
    `<< /Length ${Buffer.byteLength(text, 'latin1')} >>\nstream\n${text}\nendstream`,
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>',
  ];
  let body = '%PDF-1.4\n';
  const offsets: number[] = [];
  objects.forEach((object, index) => {
    offsets.push(Buffer.byteLength(body, 'latin1'));
    body += `${index + 1} 0 obj\n${object}\nendobj\n`;
  });
  const xrefAt = Buffer.byteLength(body, 'latin1');
  body += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  body += offsets.map((offset) => `${String(offset).padStart(10, '0')} 00000 n \n`).join('');
  body += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xrefAt}\n%%EOF\n`;
  return Buffer.from(body, 'latin1');
}

export function pdfFile(title: string, fileName: string, lines: readonly string[]): DemoFile {
  return { title, fileName, mimeType: 'application/pdf', content: onePagePdf(title, lines) };
}

export function textFile(title: string, fileName: string, lines: readonly string[]): DemoFile {
  return { title, fileName, mimeType: 'text/plain', content: Buffer.from(`${lines.join('\n')}\n`, 'utf8') };
}
