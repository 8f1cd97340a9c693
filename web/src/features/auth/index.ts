export { SignInPage } from './components/sign-in-page';
export { SignUpPage } from './components/sign-up-page';
export { authPath, returnPathFrom } from './components/safe-next';
