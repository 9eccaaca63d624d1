/* eslint-disable */
import * as types from './graphql';
import type { TypedDocumentNode as DocumentNode } from '@graphql-typed-document-node/core';

/**
 * Map of all GraphQL operations in the project.
 *
 * This map has several performance disadvantages:
 * 1. It is not tree-shakeable, so it will include all operations in the project.
 * 2. It is not minifiable, so the string of a GraphQL query will be multiple times inside the bundle.
 * 3. It does not support dead code elimination, so it will add unused operations.
 *
 * Therefore it is highly recommended to use the babel or swc plugin for production.
 * Learn more about it here: https://the-guild.dev/graphql/codegen/plugins/presets/preset-client#reducing-bundle-size
 */
type Documents = {
    "\n  subscription LayoutCompanyEvents {\n    companyEvents {\n      kind\n      agentID\n      company {\n        id\n        isActive\n        name\n        logoURL\n        subscriptionPlan\n      }\n      agent {\n        id\n        isActive\n        role\n      }\n    }\n  }\n": typeof types.LayoutCompanyEventsDocument,
    "\n  query Me {\n    me {\n      kind\n      user {\n        id\n        fullName\n        email\n        role\n      }\n      superAdmin {\n        id\n        username\n        fullName\n      }\n      company {\n        id\n        name\n        slug\n        logoURL\n        subscriptionPlan\n        isActive\n        widgetKey\n      }\n    }\n  }\n": typeof types.MeDocument,
    "\n  mutation Login($email: String!, $password: String!) {\n    login(email: $email, password: $password) {\n      token\n      refreshToken\n      expiresAt\n    }\n  }\n": typeof types.LoginDocument,
    "\n  mutation SuperAdminLogin($username: String!, $password: String!) {\n    superAdminLogin(username: $username, password: $password) {\n      token\n      refreshToken\n      expiresAt\n    }\n  }\n": typeof types.SuperAdminLoginDocument,
    "\n  mutation RegisterCompany($input: RegisterCompanyInput!) {\n    registerCompany(input: $input) {\n      token\n      refreshToken\n      expiresAt\n      company {\n        id\n        slug\n      }\n    }\n  }\n": typeof types.RegisterCompanyDocument,
};
const documents: Documents = {
    "\n  subscription LayoutCompanyEvents {\n    companyEvents {\n      kind\n      agentID\n      company {\n        id\n        isActive\n        name\n        logoURL\n        subscriptionPlan\n      }\n      agent {\n        id\n        isActive\n        role\n      }\n    }\n  }\n": types.LayoutCompanyEventsDocument,
    "\n  query Me {\n    me {\n      kind\n      user {\n        id\n        fullName\n        email\n        role\n      }\n      superAdmin {\n        id\n        username\n        fullName\n      }\n      company {\n        id\n        name\n        slug\n        logoURL\n        subscriptionPlan\n        isActive\n        widgetKey\n      }\n    }\n  }\n": types.MeDocument,
    "\n  mutation Login($email: String!, $password: String!) {\n    login(email: $email, password: $password) {\n      token\n      refreshToken\n      expiresAt\n    }\n  }\n": types.LoginDocument,
    "\n  mutation SuperAdminLogin($username: String!, $password: String!) {\n    superAdminLogin(username: $username, password: $password) {\n      token\n      refreshToken\n      expiresAt\n    }\n  }\n": types.SuperAdminLoginDocument,
    "\n  mutation RegisterCompany($input: RegisterCompanyInput!) {\n    registerCompany(input: $input) {\n      token\n      refreshToken\n      expiresAt\n      company {\n        id\n        slug\n      }\n    }\n  }\n": types.RegisterCompanyDocument,
};

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 *
 *
 * @example
 * ```ts
 * const query = graphql(`query GetUser($id: ID!) { user(id: $id) { name } }`);
 * ```
 *
 * The query argument is unknown!
 * Please regenerate the types.
 */
export function graphql(source: string): unknown;

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription LayoutCompanyEvents {\n    companyEvents {\n      kind\n      agentID\n      company {\n        id\n        isActive\n        name\n        logoURL\n        subscriptionPlan\n      }\n      agent {\n        id\n        isActive\n        role\n      }\n    }\n  }\n"): (typeof documents)["\n  subscription LayoutCompanyEvents {\n    companyEvents {\n      kind\n      agentID\n      company {\n        id\n        isActive\n        name\n        logoURL\n        subscriptionPlan\n      }\n      agent {\n        id\n        isActive\n        role\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Me {\n    me {\n      kind\n      user {\n        id\n        fullName\n        email\n        role\n      }\n      superAdmin {\n        id\n        username\n        fullName\n      }\n      company {\n        id\n        name\n        slug\n        logoURL\n        subscriptionPlan\n        isActive\n        widgetKey\n      }\n    }\n  }\n"): (typeof documents)["\n  query Me {\n    me {\n      kind\n      user {\n        id\n        fullName\n        email\n        role\n      }\n      superAdmin {\n        id\n        username\n        fullName\n      }\n      company {\n        id\n        name\n        slug\n        logoURL\n        subscriptionPlan\n        isActive\n        widgetKey\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation Login($email: String!, $password: String!) {\n    login(email: $email, password: $password) {\n      token\n      refreshToken\n      expiresAt\n    }\n  }\n"): (typeof documents)["\n  mutation Login($email: String!, $password: String!) {\n    login(email: $email, password: $password) {\n      token\n      refreshToken\n      expiresAt\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation SuperAdminLogin($username: String!, $password: String!) {\n    superAdminLogin(username: $username, password: $password) {\n      token\n      refreshToken\n      expiresAt\n    }\n  }\n"): (typeof documents)["\n  mutation SuperAdminLogin($username: String!, $password: String!) {\n    superAdminLogin(username: $username, password: $password) {\n      token\n      refreshToken\n      expiresAt\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation RegisterCompany($input: RegisterCompanyInput!) {\n    registerCompany(input: $input) {\n      token\n      refreshToken\n      expiresAt\n      company {\n        id\n        slug\n      }\n    }\n  }\n"): (typeof documents)["\n  mutation RegisterCompany($input: RegisterCompanyInput!) {\n    registerCompany(input: $input) {\n      token\n      refreshToken\n      expiresAt\n      company {\n        id\n        slug\n      }\n    }\n  }\n"];

export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}

export type DocumentType<TDocumentNode extends DocumentNode<any, any>> = TDocumentNode extends DocumentNode<  infer TType,  any>  ? TType  : never;