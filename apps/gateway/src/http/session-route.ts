/** The `{id}` path parameter of every per-session route, for OpenAPI. */
export const SESSION_ID_PARAM = { name: 'id', description: 'The WhatsApp session id. Must be a session your organization owns.', example: '01HZX3K9Q2T4W6Y8A0C2E4G6J8' };

/** The 409 of a route that needs the session connected to WhatsApp. */
export const NOT_CONNECTED = '`session_not_connected`: the session is not connected.';
