import { named, Type, type Static } from './schema';

/** `?limit=&cursor=` of every cursor-paged list. Query values arrive as strings; `limit` is coerced. */
export const PageQuery = named(
  'PageQuery',
  Type.Object(
    {
      limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 50, description: 'Page size.' })),
      cursor: Type.Optional(Type.String({ maxLength: 200, description: 'The `nextCursor` of the previous page.' })),
    },
    { additionalProperties: false },
  ),
);
export type PageQueryDto = Static<typeof PageQuery>;
