import { writeFile } from 'node:fs/promises';
import lighthouseRun, { type Flags } from 'lighthouse';
import puppeteer, { type Browser as PuppeteerBrowser, type Page } from 'puppeteer-core';
import type { Browser, Page as PlaywrightPage } from 'playwright-core';
import { freePort } from '../../server/net';
import { launchChromium } from '../../tests/e2e/support';

/** What one Lighthouse run says of a page load. */
export interface LighthouseScores {
	/** The performance category, 0–100. */
	performance: number;
	lcpMs: number;
	fcpMs: number;
	tbtMs: number;
	/** Bytes over the network (as sent, so compressed), in KiB: Lighthouse's total byte weight. */
	transferKb: number;
}

export interface LighthouseOptions {
	/**
	 * The tab to load the page in (puppeteer-core's, see `DevToolsChromium`), so that what it holds
	 * stays: a signed-in, unlocked tab keeps its sessionStorage. Without it, Lighthouse opens a tab
	 * of its own in a Chromium started for the run.
	 */
	page?: Page;
	/**
	 * Keep the service worker, Cache Storage and the HTTP cache: a repeat visit. By default they are
	 * cleared first (cookies, localStorage, IndexedDB and the tab's sessionStorage are always kept),
	 * so every run is a first load.
	 */
	keepCaches?: boolean;
	/** Writes Lighthouse's whole report (JSON) here: the LCP element and its phases, each request. */
	reportPath?: string;
}

/**
 * Lighthouse's performance figures for `url`: mobile, simulated throttling (Lighthouse's defaults:
 * a mid-range phone, 4× CPU slowdown, 150 ms RTT, 1.6 Mbit/s down).
 */
export async function lighthouse(url: string, options: LighthouseOptions = {}): Promise<LighthouseScores> {
	if (options.page) return run(url, options.page, options);
	const chromium = await DevToolsChromium.launch();
	try {
		const { page, close } = await chromium.newTab();
		try {
			return await run(url, page, options);
		} finally {
			await close();
		}
	} finally {
		await chromium.close();
	}
}

async function run(url: string, page: Page, options: LighthouseOptions): Promise<LighthouseScores> {
	const flags: Flags = {
		onlyCategories: ['performance'],
		disableStorageReset: options.keepCaches ?? false,
		logLevel: 'error',
		output: 'json',
	};
	const result = await lighthouseRun(url, flags, undefined, page);
	if (!result) throw new Error(`lighthouse: no result for ${url}`);
	const { lhr } = result;
	if (options.reportPath) await writeFile(options.reportPath, JSON.stringify(lhr, null, 1));
	if (lhr.runtimeError)
		throw new Error(`lighthouse: ${lhr.runtimeError.code} for ${url}: ${lhr.runtimeError.message}`);
	const audit = (id: string) => lhr.audits[id]?.numericValue ?? Number.NaN;
	return {
		performance: Math.round((lhr.categories.performance?.score ?? Number.NaN) * 100),
		lcpMs: audit('largest-contentful-paint'),
		fcpMs: audit('first-contentful-paint'),
		tbtMs: audit('total-blocking-time'),
		transferKb: audit('total-byte-weight') / 1024,
	};
}

/**
 * Debian's Chromium driven by Playwright (the end-to-end tests' launcher, to sign in as a person
 * does) with its DevTools port open, so that puppeteer-core, which Lighthouse drives, can reach the
 * same tabs.
 */
export class DevToolsChromium {
	private constructor(
		readonly browser: Browser,
		private readonly devtools: PuppeteerBrowser,
	) {}

	static async launch(): Promise<DevToolsChromium> {
		const port = await freePort();
		const browser = await launchChromium([`--remote-debugging-port=${port}`]);
		try {
			const devtools = await puppeteer.connect({
				browserURL: `http://127.0.0.1:${port}`,
				defaultViewport: null,
			});
			return new DevToolsChromium(browser, devtools);
		} catch (error) {
			await browser.close();
			throw error;
		}
	}

	/** A tab in a browser context of its own (nothing cached, nothing stored), for Lighthouse. */
	async newTab(): Promise<{ page: Page; close: () => Promise<void> }> {
		const context = await this.browser.newContext();
		const page = await this.tabOf(await context.newPage());
		return { page, close: () => context.close() };
	}

	/** Lighthouse's handle on a tab Playwright opened. */
	async tabOf(playwrightPage: PlaywrightPage): Promise<Page> {
		const marker = `lighthouse-${Math.random().toString(36).slice(2)}`;
		await playwrightPage.evaluate((name) => (window.name = name), marker);
		for (const page of await this.devtools.pages()) {
			if ((await page.evaluate(() => window.name).catch(() => '')) === marker) return page;
		}
		throw new Error('DevToolsChromium: the tab is not reachable over the DevTools port');
	}

	async close(): Promise<void> {
		await this.devtools.disconnect();
		await this.browser.close();
	}
}
