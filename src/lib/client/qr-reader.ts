/** The part of the Barcode Detection API this reader uses (not in TypeScript's DOM library yet). */
interface BarcodeDetectorLike {
	detect(image: ImageBitmapSource): Promise<{ rawValue: string }[]>;
}
interface BarcodeDetectorClass {
	new (options: { formats: string[] }): BarcodeDetectorLike;
	getSupportedFormats(): Promise<string[]>;
}

type Decode = (image: Blob | ImageData) => Promise<string[]>;

let decoder: Promise<Decode> | null = null;

/**
 * The QR codes in an image (a chosen file, or a camera frame). The browser's own BarcodeDetector
 * where it reads QR codes (Chrome on Android, macOS, ChromeOS); elsewhere, Debian's Chromium on
 * Linux among them, ZXing compiled to WebAssembly, fetched from this origin on first use only.
 */
export async function readQrCodes(image: Blob | ImageData): Promise<string[]> {
	decoder ??= chooseDecoder().catch((error: unknown) => {
		decoder = null;
		throw error;
	});
	return (await decoder)(image);
}

async function chooseDecoder(): Promise<Decode> {
	const Detector = (globalThis as { BarcodeDetector?: BarcodeDetectorClass }).BarcodeDetector;
	if (Detector && (await Detector.getSupportedFormats()).includes('qr_code')) {
		const detector = new Detector({ formats: ['qr_code'] });
		return async (image) => {
			const source = image instanceof Blob ? await createImageBitmap(image) : image;
			return (await detector.detect(source)).map((code) => code.rawValue);
		};
	}
	const [zxing, wasm] = await Promise.all([
		import('zxing-wasm/reader'),
		import('zxing-wasm/reader/zxing_reader.wasm?url'),
	]);
	// By default the module would fetch its WebAssembly from a CDN: serve it from the hub instead.
	zxing.prepareZXingModule({
		overrides: {
			locateFile: (path: string, prefix: string) => (path.endsWith('.wasm') ? wasm.default : prefix + path),
		},
	});
	return async (image) => {
		const results = await zxing.readBarcodes(image, {
			formats: ['QRCode'],
			tryHarder: true,
			maxNumberOfSymbols: 4,
		});
		return results.filter((r) => r.isValid).map((r) => r.text);
	};
}
