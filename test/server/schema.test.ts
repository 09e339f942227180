import * as C from '../../server/contract';
import { array, boolean, integer, nullable, nullableString, object, oneOf, optional, string } from '../../server/schema';
import type { BoundAccount, Order, ProfileUpdateRequest, User } from '../../typings/api';

describe('contract-typed schemas', () => {
  it('require exactly the contract’s required properties and forbid others', () => {
    expect(C.loginRequest).toEqual({ type: 'object', properties: { code: { type: 'string', minLength: 1, maxLength: 128 } }, required: ['code'], additionalProperties: false });
    expect(C.profileUpdateRequest.required).toEqual([]);
    expect(C.loginResponse.required.sort()).toEqual(['expiresAt', 'isNewUser', 'menus', 'skey', 'user']);
    expect(C.bindRequiredResponse.required.sort()).toEqual(['bindRequired', 'bindTicket', 'expiresAt']);
    expect(C.bindRequest.required.sort()).toEqual(['account', 'bindTicket', 'password']);
  });

  it('do not compile when they drift from the contract (checked by tsc)', () => {
    const account = object<BoundAccount>({ name: string(), displayName: string() });
    const userProps = {
      id: string(),
      nickname: string(),
      avatarUrl: string(),
      profileComplete: boolean(),
      createdAt: integer(),
      phone: nullableString(),
      phoneRequired: boolean(),
      roles: array(string()),
      account: nullable(account),
    };
    // @ts-expect-error a property of User is missing
    object<User>({ id: string(), nickname: string(), avatarUrl: string(), profileComplete: boolean() });
    // @ts-expect-error a property the contract does not have
    object<User>({ ...userProps, openid: string() });
    // @ts-expect-error a wrong type
    object<User>({ ...userProps, createdAt: string() });
    // @ts-expect-error an optional property declared required
    object<ProfileUpdateRequest>({ nickname: string(), avatarUrl: optional(string()) });
    // @ts-expect-error a required property declared optional
    object<User>({ ...userProps, id: optional(string()) });
    // @ts-expect-error an enum missing one of the contract's values
    object<Order>({ id: string(), title: string(), amountFen: integer(), status: oneOf({ pending: true, paid: true }), createdAt: integer() });
    // @ts-expect-error a nullable property declared as a plain string
    object<User>({ ...userProps, phone: string() });
    // @ts-expect-error a nullable object declared as never null
    object<User>({ ...userProps, account });
    expect(object<User>(userProps).required).toHaveLength(9);
  });
});
