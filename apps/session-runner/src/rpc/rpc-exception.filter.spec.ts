import { AppError } from '@wa/domain';
import { firstValueFrom } from 'rxjs';
import { RpcExceptionFilter } from './rpc-exception.filter';

describe(RpcExceptionFilter.name, () => {
  const filter = new RpcExceptionFilter();

  it('sends an AppError across the wire as its code, message and details', async () => {
    await expect(firstValueFrom(filter.catch(new AppError('not_found', 'session not found', { id: 'x' })))).rejects.toEqual({
      code: 'not_found',
      message: 'session not found',
      details: { id: 'x' },
    });
  });

  it('hides the message of an unexpected error behind internal_error with an error id', async () => {
    const logged = jest.spyOn(filter['logger'], 'error').mockImplementation(() => undefined);
    const sent = await firstValueFrom(filter.catch(new Error('password=hunter2'))).catch((e: unknown) => e);
    expect(sent).toEqual({ code: 'internal_error', message: 'internal error in the session runner', details: { errorId: expect.any(String) } });
    expect(JSON.stringify(sent)).not.toContain('hunter2');
    expect(logged).toHaveBeenCalledTimes(1);
  });
});
