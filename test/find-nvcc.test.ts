// Where a source build finds nvcc (scripts/find-nvcc.js), as a pure function of the environment
// and a file probe: each place CUDA installs put it, in order, and the list of places searched
// when there is none; then what the build (scripts/build-addon.js) says about it, and where.
const { findNvcc } = require('../scripts/find-nvcc.js') as {
  findNvcc(o: { env: Record<string, string>; platform?: string; isExecutable(file: string): boolean }): {
    nvcc: string | null;
    from?: string;
    searched?: string[];
  };
};

// A file system holding exactly these executables.
const files = (...present: string[]) => (file: string) => present.includes(file);

describe('findNvcc', () => {
  test('PATH, in PATH order', () => {
    const r = findNvcc({ env: { PATH: '/usr/bin:/opt/a/bin:/opt/b/bin' }, isExecutable: files('/opt/b/bin/nvcc', '/opt/a/bin/nvcc') });
    expect(r).toEqual({ nvcc: '/opt/a/bin/nvcc', from: 'PATH' });
  });

  test('/usr/local/cuda/bin, where the toolkit installers put it, when PATH lacks it (the usual case)', () => {
    const r = findNvcc({ env: { PATH: '/usr/bin:/bin' }, isExecutable: files('/usr/local/cuda/bin/nvcc') });
    expect(r).toEqual({ nvcc: '/usr/local/cuda/bin/nvcc', from: '/usr/local/cuda/bin' });
    expect(findNvcc({ env: {}, isExecutable: files('/opt/cuda/bin/nvcc') })).toEqual({ nvcc: '/opt/cuda/bin/nvcc', from: '/opt/cuda/bin' });
  });

  test('CUDA_HOME and CUDA_PATH name a toolkit, and outrank PATH and the default location', () => {
    const fs = files('/usr/bin/nvcc', '/usr/local/cuda/bin/nvcc', '/opt/cuda-12.4/bin/nvcc', '/opt/cuda-12.8/bin/nvcc');
    expect(findNvcc({ env: { PATH: '/usr/bin', CUDA_HOME: '/opt/cuda-12.4' }, isExecutable: fs })).toEqual({
      nvcc: '/opt/cuda-12.4/bin/nvcc',
      from: 'CUDA_HOME=/opt/cuda-12.4',
    });
    expect(findNvcc({ env: { PATH: '/usr/bin', CUDA_PATH: '/opt/cuda-12.8/' }, isExecutable: fs })).toEqual({
      nvcc: '/opt/cuda-12.8/bin/nvcc',
      from: 'CUDA_PATH=/opt/cuda-12.8/',
    });
    // CUDA_HOME first; one without nvcc is passed over for the next place.
    expect(findNvcc({ env: { CUDA_HOME: '/opt/cuda-12.4', CUDA_PATH: '/opt/cuda-12.8' }, isExecutable: fs }).nvcc).toBe('/opt/cuda-12.4/bin/nvcc');
    expect(findNvcc({ env: { CUDA_HOME: '/nowhere', PATH: '/usr/bin' }, isExecutable: fs }).nvcc).toBe('/usr/bin/nvcc');
  });

  test('CUDACXX, CMake\'s own variable for the compiler, comes first', () => {
    const fs = files('/x/nvcc-12', '/usr/bin/nvcc');
    expect(findNvcc({ env: { CUDACXX: '/x/nvcc-12', PATH: '/usr/bin', CUDA_HOME: '/usr' }, isExecutable: fs })).toEqual({ nvcc: '/x/nvcc-12', from: 'CUDACXX' });
    expect(findNvcc({ env: { CUDACXX: '/gone/nvcc', PATH: '/usr/bin' }, isExecutable: fs }).nvcc).toBe('/usr/bin/nvcc');
  });

  test('none found: every place searched, for the message', () => {
    expect(findNvcc({ env: { PATH: '/usr/bin', CUDACXX: '/gone/nvcc', CUDA_HOME: '/opt/none' }, isExecutable: files() })).toEqual({
      nvcc: null,
      searched: ['CUDACXX=/gone/nvcc (not an executable file)', 'CUDA_HOME=/opt/none (no /opt/none/bin/nvcc)', 'PATH', '/usr/local/cuda/bin', '/opt/cuda/bin'],
    });
  });

  test('Windows: nvcc.exe, ";" between PATH entries, no POSIX default locations', () => {
    const fs = files('C:\\CUDA\\v12.4\\bin\\nvcc.exe', 'D:\\tools\\nvcc.exe');
    expect(findNvcc({ env: { CUDA_PATH: 'C:\\CUDA\\v12.4' }, platform: 'win32', isExecutable: fs }).nvcc).toBe('C:\\CUDA\\v12.4\\bin\\nvcc.exe');
    expect(findNvcc({ env: { PATH: 'C:\\Windows;D:\\tools' }, platform: 'win32', isExecutable: fs }).nvcc).toBe('D:\\tools\\nvcc.exe');
    expect(findNvcc({ env: {}, platform: 'win32', isExecutable: files('/usr/local/cuda/bin/nvcc') })).toEqual({ nvcc: null, searched: ['PATH'] });
  });

  test('the real probe accepts only an executable regular file', () => {
    const { mkdtempSync, writeFileSync, chmodSync, mkdirSync, rmSync } = require('fs');
    const dir: string = mkdtempSync(`${require('os').tmpdir()}/frugal-nvcc-`);
    try {
      mkdirSync(`${dir}/a/nvcc`, { recursive: true }); // a directory named nvcc
      mkdirSync(`${dir}/b`);
      writeFileSync(`${dir}/b/nvcc`, ''); // not executable
      mkdirSync(`${dir}/c`);
      writeFileSync(`${dir}/c/nvcc`, '#!/bin/sh\n');
      chmodSync(`${dir}/c/nvcc`, 0o755);
      const r = require('../scripts/find-nvcc.js').findNvcc({ env: { PATH: `${dir}/a:${dir}/b:${dir}/c` } });
      expect(r).toEqual({ nvcc: `${dir}/c/nvcc`, from: 'PATH' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

// What the build says about nvcc (scripts/build-addon.js), with the search and the streams stubbed.
describe('the build and nvcc', () => {
  const { cudaCompiler, reconfigureReason, warnVisibly } = require('../scripts/build-addon.js') as {
    cudaCompiler(o: object): string | null;
    reconfigureReason(cache: string | null, nvcc: string | null): string | null;
    warnVisibly(message: string, o: object): void;
  };
  const found = () => ({ nvcc: '/usr/local/cuda/bin/nvcc', from: '/usr/local/cuda/bin' });
  const missing = () => ({ nvcc: null, searched: ['PATH', '/usr/local/cuda/bin', '/opt/cuda/bin'] });
  const calls = (env: Record<string, string>, find: () => object) => {
    const said: string[] = [];
    const warned: string[] = [];
    let nvcc: string | null | undefined;
    let error = '';
    try {
      nvcc = cudaCompiler({ env, find, say: (m: string) => said.push(m), warn: (m: string) => warned.push(m) });
    } catch (e) {
      error = (e as Error).message;
    }
    return { nvcc, said, warned, error };
  };

  test('prints which nvcc it uses (handed to CMake as CMAKE_CUDA_COMPILER)', () => {
    expect(calls({}, found)).toEqual({
      nvcc: '/usr/local/cuda/bin/nvcc',
      said: ['nvcc: /usr/local/cuda/bin/nvcc (found through /usr/local/cuda/bin): building the CUDA backend too'],
      warned: [],
      error: '',
    });
  });

  test('none found: a warning with the places searched and the fix, and a CPU build', () => {
    const r = calls({}, missing);
    expect(r.nvcc).toBeNull();
    expect(r.warned).toEqual([
      'nvcc, the CUDA compiler, was not found (looked in PATH, /usr/local/cuda/bin, /opt/cuda/bin): the CUDA backend is left out ' +
        'and frugal-optim will run on the CPU only. To include it, install the CUDA toolkit (12.1 or newer), set CUDA_HOME to it ' +
        '(or put its bin/ on PATH) and run `npm rebuild frugal-optim`.',
    ]);
  });

  test('FRUGAL_CUDA=ON without nvcc is an error; FRUGAL_CUDA=OFF looks for none', () => {
    expect(calls({ FRUGAL_CUDA: 'on' }, missing).error).toBe(
      'FRUGAL_CUDA=ON but nvcc, the CUDA compiler, was not found (looked in PATH, /usr/local/cuda/bin, /opt/cuda/bin)',
    );
    const off = calls({ FRUGAL_CUDA: 'OFF' }, () => {
      throw new Error('not to be called');
    });
    expect(off).toEqual({ nvcc: null, said: ['FRUGAL_CUDA=OFF: building the CPU backend only'], warned: [], error: '' });
  });

  test('the warning reaches the terminal when npm hides the install script\'s output, and only then', () => {
    const line = '[frugal-optim] warning: no nvcc\n';
    const attempt = (env: Record<string, string>, isTTY: boolean) => {
      let stderr = '';
      let ttyOpened = false;
      warnVisibly('no nvcc', {
        env,
        stderr: { isTTY, write: (s: string) => (stderr += s) },
        openTty: () => {
          ttyOpened = true;
          throw Object.assign(new Error('no tty'), { code: 'ENXIO' }); // as in CI: nothing to write to
        },
      });
      return { stderr, ttyOpened };
    };
    // npm running the install script of a dependency: stderr is a pipe npm swallows
    expect(attempt({ npm_lifecycle_event: 'install' }, false)).toEqual({ stderr: line, ttyOpened: true });
    // stderr already on the terminal (npm run build:addon, the package's own npm install), or no npm
    expect(attempt({ npm_lifecycle_event: 'install' }, true)).toEqual({ stderr: line, ttyOpened: false });
    expect(attempt({}, false)).toEqual({ stderr: line, ttyOpened: false });
  });

  test('a build directory configured with another CUDA compiler, or none, is configured again', () => {
    const cache = (used: string | null) =>
      `# This is the CMakeCache file.\nCMAKE_BUILD_TYPE:STRING=Release\n${used === null ? '' : `FRUGAL_CUDA_COMPILER_USED:INTERNAL=${used}\n`}`;
    const nvcc = '/usr/local/cuda/bin/nvcc';
    expect(reconfigureReason(null, nvcc)).toBeNull(); // not configured yet: the build configures it
    expect(reconfigureReason(cache(nvcc), nvcc)).toBeNull();
    expect(reconfigureReason(cache(''), null)).toBeNull();
    expect(reconfigureReason(cache(''), nvcc)).toBe(`build/ was configured with no CUDA compiler, this build uses nvcc ${nvcc}`);
    expect(reconfigureReason(cache(nvcc), null)).toBe(`build/ was configured with nvcc ${nvcc}, this build uses none`);
    expect(reconfigureReason(cache('/opt/cuda-12.4/bin/nvcc'), nvcc)).toMatch(/^build\/ was configured with nvcc \/opt\/cuda-12\.4\/bin\/nvcc, this build uses nvcc /);
    expect(reconfigureReason(cache(null), null)).toBe('build/ was configured by an older CMakeLists.txt');
  });
});
