// The add-knowledge forms' checks, made before anything is sent.
import { describe, expect, it } from 'vitest'
import {
  checkFacebook,
  displayText,
  checkPdf,
  checkPdfFile,
  checkText,
  checkWebsite,
  hasPdfHeader,
  MAX_PDF_BYTES,
  parsePathPatterns,
  planPageCap,
  pushHistory,
  utf8Bytes,
} from '../src/pages/knowledge/knowledgeLogic'

const site = { url: 'https://help.example.com/', maxPages: '', maxDepth: '', includePaths: '', excludePaths: '' }

describe('PDF checks', () => {
  it('accepts a PDF by name or by type, up to 50 MB', () => {
    expect(checkPdfFile({ name: 'manual.pdf', size: 1000, type: '' })).toBeUndefined()
    expect(checkPdfFile({ name: 'MANUAL.PDF', size: 1000, type: '' })).toBeUndefined()
    expect(checkPdfFile({ name: 'scan', size: 1000, type: 'application/pdf' })).toBeUndefined()
    expect(checkPdfFile({ name: 'big.pdf', size: MAX_PDF_BYTES, type: 'application/pdf' })).toBeUndefined()
  })
  it('refuses other files, empty ones and ones over 50 MB', () => {
    expect(checkPdfFile({ name: 'notes.docx', size: 1000, type: 'application/vnd.openxmlformats' })).toMatch(/not a PDF/)
    expect(checkPdfFile({ name: 'photo.png', size: 1000, type: 'image/png' })).toMatch(/photo\.png is not a PDF/)
    expect(checkPdfFile({ name: 'empty.pdf', size: 0, type: 'application/pdf' })).toMatch(/empty/)
    expect(checkPdfFile({ name: 'huge.pdf', size: MAX_PDF_BYTES + 1, type: 'application/pdf' })).toMatch(/50\.0 MB; at most 50 MB/)
    expect(checkPdfFile(null)).toMatch(/Choose a PDF/)
  })
  it('looks for %PDF- in the first 1024 bytes, as the server does', () => {
    const enc = new TextEncoder()
    expect(hasPdfHeader(enc.encode('%PDF-1.7\n...'))).toBe(true)
    expect(hasPdfHeader(enc.encode(' '.repeat(500) + '%PDF-1.4'))).toBe(true)
    expect(hasPdfHeader(enc.encode(' '.repeat(1020) + '%PDF-1.4'))).toBe(false)
    expect(hasPdfHeader(enc.encode('PK\u0003\u0004 word document'))).toBe(false)
    expect(hasPdfHeader(enc.encode('%PDF'))).toBe(false)
  })
  it('checks the optional title', () => {
    const f = { name: 'a.pdf', size: 10, type: 'application/pdf' }
    expect(checkPdf(f, '')).toEqual({})
    expect(checkPdf(f, 'x'.repeat(501)).title).toMatch(/500/)
    expect(checkPdf(null, '').file).toBeTruthy()
  })
})

describe('text checks', () => {
  it('requires a title and some content, at most 1 MB of UTF-8', () => {
    expect(checkText('FAQ', 'Opening hours: 9 to 5')).toEqual({})
    expect(Object.keys(checkText('  ', '  '))).toEqual(['title', 'content'])
    expect(checkText('FAQ', 'a'.repeat(1 << 20))).toEqual({})
    expect(checkText('FAQ', 'a'.repeat((1 << 20) + 1)).content).toMatch(/at most 1 MB/)
    // 2 bytes a character: half as many characters fit.
    expect(checkText('FAQ', 'é'.repeat((1 << 19) + 1)).content).toMatch(/at most 1 MB/)
  })
  it('counts UTF-8 bytes as the server does', () => {
    expect(utf8Bytes('abc')).toBe(3)
    expect(utf8Bytes('é')).toBe(2)
    expect(utf8Bytes('€')).toBe(3)
    expect(utf8Bytes('😀')).toBe(4)
    expect(utf8Bytes('a😀b')).toBe(6)
  })
})

describe('path patterns', () => {
  it('reads one pattern a line, ignoring blank lines and spaces around', () => {
    expect(parsePathPatterns('/docs/*\n\n  /help/*  \r\n')).toEqual({ patterns: ['/docs/*', '/help/*'] })
    expect(parsePathPatterns('')).toEqual({ patterns: [] })
  })
  it('says which line is wrong', () => {
    expect(parsePathPatterns('/docs/*\ndocs/*').error).toMatch(/^Line 2: "docs\/\*" must start with \//)
    expect(parsePathPatterns('/a b').error).toMatch(/Line 1: .*spaces/)
    expect(parsePathPatterns('/' + 'x'.repeat(200)).error).toMatch(/200 characters/)
    expect(parsePathPatterns('/' + 'x'.repeat(199)).error).toBeUndefined()
  })
  it('accepts at most 50 patterns', () => {
    const many = Array.from({ length: 51 }, (_, i) => `/p${i}/*`).join('\n')
    expect(parsePathPatterns(many).error).toMatch(/At most 50/)
    expect(parsePathPatterns(many.split('\n').slice(0, 50).join('\n')).error).toBeUndefined()
  })
})

describe('website checks', () => {
  it('knows each plan’s page cap', () => {
    expect(planPageCap('FREE')).toBe(50)
    expect(planPageCap('BASIC')).toBe(200)
    expect(planPageCap('PREMIUM')).toBe(1000)
    expect(planPageCap('ENTERPRISE')).toBe(5000)
    expect(planPageCap(undefined)).toBe(50)
  })
  it('refuses more pages than the plan allows, naming the plan', () => {
    expect(checkWebsite({ ...site, maxPages: '50' }, 'FREE').input).toMatchObject({ maxPages: 50 })
    const r = checkWebsite({ ...site, maxPages: '51' }, 'FREE')
    expect(r.input).toBeUndefined()
    expect(r.errors.maxPages).toBe('Your Free plan crawls at most 50 pages per website.')
    expect(checkWebsite({ ...site, maxPages: '1000' }, 'PREMIUM').input?.maxPages).toBe(1000)
    expect(checkWebsite({ ...site, maxPages: '1001' }, 'PREMIUM').errors.maxPages).toMatch(/Premium plan crawls at most 1,000/)
    expect(checkWebsite({ ...site, maxPages: '0' }, 'FREE').errors.maxPages).toMatch(/at least 1/)
    expect(checkWebsite({ ...site, maxPages: '2.5' }, 'FREE').errors.maxPages).toBeTruthy()
  })
  it('leaves empty numbers to the server’s defaults', () => {
    const r = checkWebsite(site, 'FREE')
    expect(r.errors).toEqual({})
    expect(r.input).toEqual({ url: 'https://help.example.com/' })
  })
  it('checks the depth and the address', () => {
    expect(checkWebsite({ ...site, maxDepth: '0' }, 'FREE').input?.maxDepth).toBe(0)
    expect(checkWebsite({ ...site, maxDepth: '11' }, 'FREE').errors.maxDepth).toMatch(/0 to 10/)
    expect(checkWebsite({ ...site, url: '' }, 'FREE').errors.url).toBeTruthy()
    expect(checkWebsite({ ...site, url: 'help.example.com' }, 'FREE').errors.url).toMatch(/https:\/\//)
    expect(checkWebsite({ ...site, url: 'ftp://example.com/' }, 'FREE').errors.url).toBeTruthy()
    expect(checkWebsite({ ...site, url: 'https://u:p@example.com/' }, 'FREE').errors.url).toMatch(/password/)
  })
  it('sends the path patterns as lists, and puts their errors on their fields', () => {
    const ok = checkWebsite({ ...site, includePaths: '/docs/*\n/help/*', excludePaths: '/blog/*' }, 'FREE')
    expect(ok.input).toMatchObject({ includePaths: ['/docs/*', '/help/*'], excludePaths: ['/blog/*'] })
    const bad = checkWebsite({ ...site, includePaths: 'docs', excludePaths: '/ok/*' }, 'FREE')
    expect(Object.keys(bad.errors)).toEqual(['includePaths'])
  })
})

describe('Facebook checks', () => {
  it('requires the page and its token', () => {
    expect(checkFacebook('acme', 'EAAB')).toEqual({})
    expect(Object.keys(checkFacebook(' ', ''))).toEqual(['page', 'accessToken'])
  })
})

describe('test question history', () => {
  it('keeps the last five, newest first, without repeats', () => {
    let h: string[] = []
    for (const q of ['a', 'b', 'c', 'd', 'e', 'f']) h = pushHistory(h, q)
    expect(h).toEqual(['f', 'e', 'd', 'c', 'b'])
    h = pushHistory(h, '  C  ')
    expect(h).toEqual(['C', 'f', 'e', 'd', 'b'])
    expect(pushHistory(h, '   ')).toBe(h)
  })
})

describe('displayText', () => {
  it('squeezes blank lines and joins lone bullets to their items', () => {
    expect(displayText('Welcome.\n\n-\n\nshipping\n\n-\n\nreturns')).toBe('Welcome.\n- shipping\n- returns')
    expect(displayText('a\r\n\r\n\r\nb')).toBe('a\nb')
    expect(displayText('Prices - see below\nnext')).toBe('Prices - see below\nnext')
  })
})
