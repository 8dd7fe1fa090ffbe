import type { Attachment } from 'svelte/attachments';

/**
 * Makes an element a drop target for files (`{@attach fileDrop(onfiles)}`): while files are dragged
 * over it, it carries `data-dropping`; dropped files go to `onfiles`. Other drags (text, links) pass.
 */
export function fileDrop(onfiles: (files: File[]) => void): Attachment<HTMLElement> {
	return (element) => {
		let depth = 0;
		const carriesFiles = (event: DragEvent) => event.dataTransfer?.types.includes('Files') ?? false;
		const onEnter = (event: DragEvent) => {
			if (!carriesFiles(event)) return;
			depth += 1;
			element.dataset.dropping = 'true';
		};
		const onOver = (event: DragEvent) => {
			if (!carriesFiles(event)) return;
			// Without this the browser opens the dropped file itself.
			event.preventDefault();
			if (event.dataTransfer) event.dataTransfer.dropEffect = 'copy';
		};
		const onLeave = (event: DragEvent) => {
			if (!carriesFiles(event)) return;
			depth = Math.max(0, depth - 1);
			if (depth === 0) delete element.dataset.dropping;
		};
		const onDrop = (event: DragEvent) => {
			if (!carriesFiles(event)) return;
			event.preventDefault();
			depth = 0;
			delete element.dataset.dropping;
			onfiles([...(event.dataTransfer?.files ?? [])]);
		};
		element.addEventListener('dragenter', onEnter);
		element.addEventListener('dragover', onOver);
		element.addEventListener('dragleave', onLeave);
		element.addEventListener('drop', onDrop);
		return () => {
			element.removeEventListener('dragenter', onEnter);
			element.removeEventListener('dragover', onOver);
			element.removeEventListener('dragleave', onLeave);
			element.removeEventListener('drop', onDrop);
		};
	};
}
