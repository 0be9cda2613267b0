/**
 * The person cancelled a long index write (a build, a label import or an export: `what`). Its
 * own module: the reader threads' exports throw it without loading the build.
 */
export class BuildCancelled extends Error {
  constructor(what = 'index build') {
    super(`${what} cancelled`);
    this.name = 'BuildCancelled';
  }
}
