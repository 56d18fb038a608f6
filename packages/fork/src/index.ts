export { LONGEST_ENVIRONMENT_NAME, scopeProblems, serviceProblems } from './names';
export { currentNames, isLeftAlone, leftoverLines, RenameError, renameRepository, type FileChange, type Names, type RenameOptions, type RenameReport } from './rename';
