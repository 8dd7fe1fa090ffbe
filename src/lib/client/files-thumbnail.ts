import { LIMITS } from '../protocol';

/** Image types a browser shows in an <img> without running anything: never SVG (it can carry script). */
const VIEWABLE_IMAGES = new Set([
	'image/jpeg',
	'image/png',
	'image/gif',
	'image/webp',
	'image/avif',
	'image/bmp',
]);

/** True when the file's announced type is an image this app shows inline (the bytes still decide). */
export function isViewableImage(mime: string): boolean {
	return VIEWABLE_IMAGES.has(mime.toLowerCase());
}

/** The largest size with the same proportions that fits in a `max`×`max` square (never enlarged). */
export function fitWithin(width: number, height: number, max: number): { width: number; height: number } {
	if (width <= 0 || height <= 0) return { width: 0, height: 0 };
	const scale = Math.min(1, max / Math.max(width, height));
	return {
		width: Math.max(1, Math.round(width * scale)),
		height: Math.max(1, Math.round(height * scale)),
	};
}

/** Tried in order until the JPEG fits LIMITS.thumbnailMaxBytes: smaller and coarser each time. */
export const THUMBNAIL_STEPS: readonly { side: number; quality: number }[] = [
	{ side: 320, quality: 0.8 },
	{ side: 320, quality: 0.6 },
	{ side: 240, quality: 0.6 },
	{ side: 160, quality: 0.5 },
	{ side: 96, quality: 0.4 },
];

/**
 * A small JPEG of an image, made in the browser: decoded, drawn onto a canvas and encoded again, so
 * none of the original's metadata (EXIF, GPS, camera) survives. Null when the browser cannot
 * decode it or no step fits the limit: the file is then sent without a preview.
 */
export async function makeThumbnail(image: Blob): Promise<Uint8Array | null> {
	let bitmap: ImageBitmap;
	try {
		bitmap = await createImageBitmap(image, { imageOrientation: 'from-image' });
	} catch {
		return null;
	}
	try {
		for (const step of THUMBNAIL_STEPS) {
			const size = fitWithin(bitmap.width, bitmap.height, step.side);
			if (size.width === 0) return null;
			const canvas = new OffscreenCanvas(size.width, size.height);
			const context = canvas.getContext('2d');
			if (!context) return null;
			// JPEG has no transparency: a transparent PNG gets a white background rather than black.
			context.fillStyle = '#fff';
			context.fillRect(0, 0, size.width, size.height);
			context.drawImage(bitmap, 0, 0, size.width, size.height);
			const blob = await canvas.convertToBlob({ type: 'image/jpeg', quality: step.quality });
			if (blob.size <= LIMITS.thumbnailMaxBytes) return new Uint8Array(await blob.arrayBuffer());
		}
		return null;
	} finally {
		bitmap.close();
	}
}
