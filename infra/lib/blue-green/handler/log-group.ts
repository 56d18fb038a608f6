/**
 * The environment variable the construct sets to the handler's log group, so
 * failure reasons name the log group this function really writes to (the
 * Provider framework's own reason names /aws/lambda/<function>, which a
 * function with a custom log group does not use). Its own module, so the
 * construct imports it without the handler's SDK dependencies.
 */
export const LOG_GROUP_ENV = 'FLEET_HANDLER_LOG_GROUP';
