import { applyDecorators, type Type } from '@nestjs/common';
import { ApiExtraModels, ApiOkResponse, ApiProperty, getSchemaPath } from '@nestjs/swagger';

/** Cursor pages: `nextCursor` is an opaque string, empty when there are no more pages. */
export class ListEnvelopeDto<T> {
  data!: T[];

  @ApiProperty({ example: '', description: 'Pass as `cursor` to get the next page; an empty string means there are no more pages.' })
  nextCursor!: string;
}

export interface ListResult<T> {
  data: T[];
  nextCursor: string;
}

/** Documents a 200 answer of `{data: Item[], nextCursor}` with the item's schema inlined. */
export function ApiListResponse(item: Type<unknown>, description?: string): MethodDecorator & ClassDecorator {
  return applyDecorators(
    ApiExtraModels(ListEnvelopeDto, item),
    ApiOkResponse({
      description,
      schema: {
        allOf: [
          { $ref: getSchemaPath(ListEnvelopeDto) },
          { type: 'object', required: ['data', 'nextCursor'], properties: { data: { type: 'array', items: { $ref: getSchemaPath(item) } } } },
        ],
      },
    }),
  );
}
