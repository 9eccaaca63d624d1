import { describe, expect, it } from 'vitest'
import { describeError, retryText } from '../src/lib/errors'

const gql = (code: string, message: string, ext: Record<string, unknown> = {}) => ({
  graphQLErrors: [{ message, extensions: { code, ...ext } }],
})

describe('describeError', () => {
  it('keeps field errors apart for their inputs', () => {
    const p = describeError(gql('BAD_USER_INPUT', 'brandColor must look like #1A2B3C', { field: 'brandColor' }))
    expect(p.code).toBe('BAD_USER_INPUT')
    expect(p.fields).toEqual({ brandColor: 'BrandColor must look like #1A2B3C.' })
    expect(p.message).toBe('BrandColor must look like #1A2B3C.')
  })

  it('collects one message per field from several errors', () => {
    const p = describeError({
      graphQLErrors: [
        { message: 'email is taken', extensions: { code: 'CONFLICT', field: 'adminEmail' } },
        { message: 'too short', extensions: { code: 'BAD_USER_INPUT', field: 'adminPassword' } },
        { message: 'again', extensions: { code: 'BAD_USER_INPUT', field: 'adminPassword' } },
      ],
    })
    expect(p.code).toBe('CONFLICT')
    expect(p.fields).toEqual({ adminEmail: 'Email is taken.', adminPassword: 'Too short.' })
  })

  it('says when a rate-limited action may be retried', () => {
    const p = describeError(gql('RATE_LIMITED', 'too many requests', { retryAfterSeconds: 12 }))
    expect(p.code).toBe('RATE_LIMITED')
    expect(p.retryAfterSeconds).toBe(12)
    expect(p.message).toBe('Too many requests. Try again in 12 seconds.')
    expect(retryText(1)).toBe('Try again in a second.')
    expect(retryText(300)).toBe('Try again in 5 minutes.')
  })

  it('gives each code a sentence a person understands', () => {
    expect(describeError(gql('FORBIDDEN', 'not allowed')).message).toBe("You don't have permission to do this.")
    expect(describeError(gql('FORBIDDEN', 'only company admins can do this')).message).toBe('Only company admins can do this.')
    expect(describeError(gql('NOT_FOUND', 'resource not found')).message).toBe('Resource not found — it may have been deleted.')
    expect(describeError(gql('SERVICE_UNAVAILABLE', 'busy')).code).toBe('SERVICE_UNAVAILABLE')
    expect(describeError(gql('INTERNAL_SERVER_ERROR', 'internal system error')).message).toMatch(/on our side/)
    expect(describeError(gql('GRAPHQL_VALIDATION_FAILED', 'Cannot query field "x"')).code).toBe('CLIENT_OUTDATED')
    expect(describeError({ networkError: new Error('Failed to fetch') }).code).toBe('NETWORK')
    expect(describeError(gql('SOMETHING_NEW', 'odd')).message).toBe('Odd.')
    expect(describeError(gql('BAD_REQUEST', "the request's variables must be a JSON object")).message).toMatch(/Reload the page/)
  })
})
