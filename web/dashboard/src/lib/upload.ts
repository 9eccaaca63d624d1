// GraphQL multipart requests (the spec gqlgen implements) sent with
// XMLHttpRequest, whose upload progress fetch cannot report. Used for PDFs
// and logos; everything else goes through urql.
import { print, type DocumentNode } from 'graphql'
import type { TypedDocumentNode } from '@graphql-typed-document-node/core'
import { freshToken, GRAPHQL_PATH } from './client'
import type { ErrorLike } from './errors'

export interface UploadResult<T> {
  data?: T
  error?: ErrorLike
}

/** Finds File values in variables, replacing them by null as the spec says. */
export function extractFiles(variables: Record<string, unknown>): {
  clone: Record<string, unknown>
  files: Map<File, string[]>
} {
  const files = new Map<File, string[]>()
  const walk = (v: unknown, path: string): unknown => {
    if (typeof File !== 'undefined' && v instanceof File) {
      files.set(v, [...(files.get(v) ?? []), path])
      return null
    }
    if (Array.isArray(v)) return v.map((x, i) => walk(x, `${path}.${i}`))
    if (v && typeof v === 'object') {
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x, `${path}.${k}`)]))
    }
    return v
  }
  const clone = Object.fromEntries(Object.entries(variables).map(([k, v]) => [k, walk(v, `variables.${k}`)]))
  return { clone, files }
}

export function uploadRequest<T, V extends Record<string, unknown>>(
  doc: TypedDocumentNode<T, V> | DocumentNode,
  variables: V,
  onProgress?: (fraction: number) => void,
  signal?: AbortSignal,
): Promise<UploadResult<T>> {
  return freshToken().then(
    (token) =>
      new Promise<UploadResult<T>>((resolve) => {
        const { clone, files } = extractFiles(variables)
        const form = new FormData()
        form.append('operations', JSON.stringify({ query: print(doc), variables: clone }))
        const map: Record<string, string[]> = {}
        let i = 0
        for (const paths of files.values()) map[String(i++)] = paths
        form.append('map', JSON.stringify(map))
        i = 0
        for (const f of files.keys()) form.append(String(i++), f, f.name)

        const xhr = new XMLHttpRequest()
        xhr.open('POST', GRAPHQL_PATH)
        xhr.setRequestHeader('Accept', 'application/graphql-response+json, application/json')
        if (token) xhr.setRequestHeader('Authorization', `Bearer ${token}`)
        xhr.upload.onprogress = (e) => {
          if (e.lengthComputable) onProgress?.(e.loaded / e.total)
        }
        const networkError = (msg: string) => resolve({ error: { networkError: new Error(msg) } })
        xhr.onerror = () => networkError('network error')
        xhr.onabort = () => networkError('cancelled')
        xhr.onload = () => {
          if (xhr.status === 413) {
            resolve({
              error: {
                graphQLErrors: [{ message: 'the file is too large', extensions: { code: 'BAD_USER_INPUT', field: 'file' } }],
              },
            })
            return
          }
          try {
            const body = JSON.parse(xhr.responseText) as { data?: T; errors?: ErrorLike['graphQLErrors'] }
            if (body.errors?.length) resolve({ data: body.data ?? undefined, error: { graphQLErrors: body.errors } })
            else resolve({ data: body.data })
          } catch {
            networkError(`the server answered ${xhr.status}`)
          }
        }
        signal?.addEventListener('abort', () => xhr.abort())
        xhr.send(form)
      }),
  )
}
